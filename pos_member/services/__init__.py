"""Use cases. Each is a function taking the unit of work and keyword-only arguments, checking
permissions, writing state, events and audit in one transaction."""
