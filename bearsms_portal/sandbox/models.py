"""Tables of the built-in BearSMS sandbox server."""
