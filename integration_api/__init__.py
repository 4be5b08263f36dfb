"""The till's local integration API (HTTP on 127.0.0.1) and its watched folder: the edge
through which the main POS reaches pos_member.integration. No Qt here; the till window starts
and stops them (ui/till_integration.py). docs/integration.md."""
