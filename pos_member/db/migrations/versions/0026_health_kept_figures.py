"""programme health at a chain's scale: each member's running ledger sums, the ledgers' home
store, the members' purchase days, and the report's covering indexes (kept by triggers)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04

The programme-health report (issue 19) read every member's whole ledgers (5 s for a store of
49,000 members, 80 s for a chain of 1,000,000: bench/insight.py). It now reads, as HQ's does
(server migrations 0017, 0018), running figures of each member's whole ledgers and one period
of rows by home store (docs/rules.md, "Programme health"). Everything below is kept by SQLite
in the statement that changes the rows, whoever writes them (a sale, a refund, a merge, a
pulled event, a repair):

- ``member_ledger_sums``: each member's points and stored-value principal and bonus sums,
  filled here from ``points_entries`` and ``sv_ledger`` as they stand; triggers on those
  tables add a row inserted, take away one deleted, and do both for one updated (a merge moves
  the loser's rows).
- ``sales.home_store_id``, ``points_entries.home_store_id``: the member's home store
  (``members.store_id``), filled here; triggers set it when a row is written without it (a
  sale rung up here gives it: its member was just read) or moved to another member, and when
  a member registers after their rows came (or their store changes).
- ``ix_sales_member_purchase_day`` (partial: member sales not wholly refunded, covered): each
  member's purchase days, as SQLite keeps any index.
- ``ix_sales_home_sold``, ``ix_points_entries_home_at``: a period of a home store's rows in
  time order, covered; ``ix_members_report``, ``ix_members_report_id``: the members per home
  store and tier, and in id order, covered.
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

# (ledger, its amount columns -> the sums' columns)
SUMMED = (
    ("points_entries", (("points", "points"),)),
    ("sv_ledger", (("principal_delta_fen", "sv_principal_fen"),
                   ("bonus_delta_fen", "sv_bonus_fen"))),
)
HOMED = ("sales", "points_entries")  # the ledgers carrying their member's home store
HOME = "(SELECT store_id FROM members WHERE id = NEW.member_id)"


def _add(row: str, cols: tuple[tuple[str, str], ...], sign: str) -> str:
    names = ", ".join(kept for _, kept in cols)
    values = ", ".join(f"{sign}{row}.{col}" for col, _ in cols)
    sets = ", ".join(f"{kept} = {kept} + excluded.{kept}" for _, kept in cols)
    return (f"INSERT INTO member_ledger_sums (member_id, {names}) "
            f"VALUES ({row}.member_id, {values}) "
            f"ON CONFLICT (member_id) DO UPDATE SET {sets};")


def upgrade() -> None:
    op.create_table(
        'member_ledger_sums',
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('points', sa.Integer(), server_default='0', nullable=False),
        sa.Column('sv_principal_fen', sa.Integer(), server_default='0', nullable=False),
        sa.Column('sv_bonus_fen', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_ledger_sums')),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO member_ledger_sums (member_id, points, sv_principal_fen, sv_bonus_fen) "
        "SELECT member_id, sum(p), sum(a), sum(b) FROM ("
        "SELECT member_id, points AS p, 0 AS a, 0 AS b FROM points_entries UNION ALL "
        "SELECT member_id, 0, principal_delta_fen, bonus_delta_fen FROM sv_ledger) "
        "GROUP BY member_id")
    for table, cols in SUMMED:
        changed = ", ".join(["member_id"] + [col for col, _ in cols])
        op.execute(f"CREATE TRIGGER {table}_sums_insert AFTER INSERT ON {table} "
                   f"BEGIN {_add('NEW', cols, '')} END")
        op.execute(f"CREATE TRIGGER {table}_sums_delete AFTER DELETE ON {table} "
                   f"BEGIN {_add('OLD', cols, '-')} END")
        op.execute(f"CREATE TRIGGER {table}_sums_update AFTER UPDATE OF {changed} ON {table} "
                   f"BEGIN {_add('OLD', cols, '-')} {_add('NEW', cols, '')} END")
    for table in HOMED:
        op.add_column(table, sa.Column('home_store_id', sa.String(length=36), nullable=True))
        op.execute(f"UPDATE {table} SET home_store_id = (SELECT store_id FROM members "
                   f"WHERE members.id = {table}.member_id) WHERE member_id IS NOT NULL")
        set_home = (f"UPDATE {table} SET home_store_id = {HOME} "
                    "WHERE rowid = NEW.rowid;")
        # a writer that knows the home store gives it (a sale rung up here): nothing to do
        op.execute(f"CREATE TRIGGER {table}_home_insert AFTER INSERT ON {table} "
                   "WHEN NEW.member_id IS NOT NULL AND NEW.home_store_id IS NULL "
                   f"BEGIN {set_home} END")
        op.execute(f"CREATE TRIGGER {table}_home_update AFTER UPDATE OF member_id ON {table} "
                   f"WHEN NEW.member_id IS NOT OLD.member_id BEGIN {set_home} END")
    homes = " ".join(f"UPDATE {table} SET home_store_id = NEW.store_id "
                     "WHERE member_id = NEW.id;" for table in HOMED)
    op.execute(f"CREATE TRIGGER members_home_insert AFTER INSERT ON members BEGIN {homes} END")
    op.execute("CREATE TRIGGER members_home_update AFTER UPDATE OF store_id ON members "
               f"WHEN NEW.store_id IS NOT OLD.store_id BEGIN {homes} END")
    op.create_index('ix_sales_member_purchase_day', 'sales',
                    ['member_id', 'business_day', 'amount_fen', 'refunded_fen'],
                    sqlite_where=sa.text('member_id IS NOT NULL AND refunded_fen < amount_fen'))
    op.create_index('ix_sales_home_sold', 'sales',
                    ['home_store_id', 'sold_at', 'member_id', 'amount_fen', 'refunded_fen'],
                    sqlite_where=sa.text('home_store_id IS NOT NULL'))
    op.create_index('ix_points_entries_home_at', 'points_entries',
                    ['home_store_id', 'at', 'member_id', 'kind', 'points'],
                    sqlite_where=sa.text('home_store_id IS NOT NULL'))
    op.create_index('ix_members_report', 'members',
                    ['store_id', 'tier', 'status', 'registered_at', 'id'])
    op.create_index('ix_members_report_id', 'members',
                    ['id', 'store_id', 'tier', 'status', 'registered_at'])


def downgrade() -> None:
    op.drop_index('ix_members_report_id', table_name='members')
    op.drop_index('ix_members_report', table_name='members')
    op.drop_index('ix_points_entries_home_at', table_name='points_entries')
    op.drop_index('ix_sales_home_sold', table_name='sales')
    op.drop_index('ix_sales_member_purchase_day', table_name='sales')
    op.execute("DROP TRIGGER members_home_update")
    op.execute("DROP TRIGGER members_home_insert")
    for table in HOMED:
        op.execute(f"DROP TRIGGER {table}_home_update")
        op.execute(f"DROP TRIGGER {table}_home_insert")
        op.drop_column(table, 'home_store_id')
    for table, _ in SUMMED:
        for verb in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER {table}_sums_{verb}")
    op.drop_table('member_ledger_sums')
