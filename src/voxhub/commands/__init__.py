"""voxhub's command-line groups, one module each."""
