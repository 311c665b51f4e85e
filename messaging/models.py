"""Local copies of outgoing, incoming, inbox and sandbox messages."""
