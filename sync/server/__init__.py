"""The central server: HQ's source of truth for the chain (``pos-member-server``).

Layers, as in the till: ``models`` (tables), ``db`` (engines, migrations, the write lock),
``services`` (use cases, one transaction each), ``app`` (HTTP), ``cli`` (HQ commands).
The server holds no state outside its database, so several processes can serve one PostgreSQL.
"""
