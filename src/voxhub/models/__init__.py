"""Model files: the pinned catalog, verified lookup, and the no-dependency wheel installer."""
