"""Ideas: /idea, the share shortcuts, :bulb: reactions, cards, decisions and challenges."""
