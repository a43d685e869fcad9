"""What the assistant is: personas, memory, emotion, spoken style, the offline agent and tools."""
