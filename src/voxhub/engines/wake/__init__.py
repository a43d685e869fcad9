"""Wake-word engines."""
