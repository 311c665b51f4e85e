"""Services of the messaging app: each one does one business action completely (design rule 1)."""
