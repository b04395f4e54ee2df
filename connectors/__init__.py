"""How documents arrive and leave: one small interface, one module per transport."""
