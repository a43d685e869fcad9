"""AutoFunction: tools the assistant writes for itself, checked, tested in a sandbox, approved, then called."""
