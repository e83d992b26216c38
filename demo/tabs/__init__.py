"""One module per tab: layout and event wiring only."""
