"""End of turn: whether a pause in speech ends the user's turn, and how much silence it takes."""
