"""Privacy rights and the audit log: what is kept, my data, forget me."""
