"""Sync between tills and the central server: the wire protocol (``protocol``), the central
server (``server``, its own entry point ``pos-member-server``) and the till's client."""
