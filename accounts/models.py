"""Portal users, roles and the BearSMS accounts they are linked to."""
