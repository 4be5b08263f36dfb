"""HQ's programme-health report at a chain's scale: home stores on the ledgers, members' sums

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

The reporting copy (0013) gains what lets the report read a period's rows instead of whole
ledgers (``sync/server/insight.py``, docs/rules.md "Programme health at HQ"):
``home_store_id`` on ``sales``, ``points_entries`` and ``sv_ledger`` (the member's
``members.store_id``) with covering indexes by home store and time, and on ``members`` the
sums of each member's whole points and stored-value ledgers. Both are filled here from the
copy as it stands; the refresh keeps them from then on.
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

LEDGERS = (
    ('sales', 'ix_sales_home_sold', 'sold_at',
     ['member_id', 'business_day', 'amount_fen', 'refunded_fen']),
    ('points_entries', 'ix_points_entries_home_at', 'at', ['member_id', 'kind', 'points']),
    ('sv_ledger', 'ix_sv_ledger_home_day', 'business_day',
     ['member_id', 'principal_delta_fen', 'bonus_delta_fen']),
)
SUMS = ('points_balance', 'sv_principal_fen', 'sv_bonus_fen')


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for col in SUMS:
        op.add_column('members', sa.Column(col, sa.BigInteger(), server_default='0',
                                           nullable=False))
    for table, _, _, _ in LEDGERS:
        op.add_column(table, sa.Column('home_store_id', sa.String(length=36), nullable=True))
        if postgres:
            op.execute(f"UPDATE {table} t SET home_store_id = m.store_id FROM members m "
                       "WHERE m.id = t.member_id")
        else:
            op.execute(f"UPDATE {table} SET home_store_id = (SELECT m.store_id FROM members m "
                       f"WHERE m.id = {table}.member_id) WHERE member_id IS NOT NULL")
    sums = {'points_entries': "SELECT member_id, sum(points) AS a, 0 AS b "
                              "FROM points_entries GROUP BY member_id",
            'sv_ledger': "SELECT member_id, sum(principal_delta_fen) AS a, "
                         "sum(bonus_delta_fen) AS b FROM sv_ledger GROUP BY member_id"}
    for table, cols in (('points_entries', ('points_balance', None)),
                        ('sv_ledger', ('sv_principal_fen', 'sv_bonus_fen'))):
        sets = [f"{c} = g.{v}" for c, v in zip(cols, 'ab', strict=True) if c]
        if postgres:
            op.execute(f"UPDATE members m SET {', '.join(sets)} FROM ({sums[table]}) g "
                       "WHERE g.member_id = m.id")
        else:
            op.execute(f"UPDATE members SET {', '.join(sets)} FROM ({sums[table]}) g "
                       "WHERE g.member_id = members.id")
    for table, index, at, include in LEDGERS:
        op.create_index(index, table, ['home_store_id', at], postgresql_include=include)


def downgrade() -> None:
    for table, index, _, _ in LEDGERS:
        op.drop_index(index, table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('home_store_id')
    with op.batch_alter_table('members') as batch_op:
        for col in SUMS:
            batch_op.drop_column(col)
