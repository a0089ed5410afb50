"""Repository map: tags, ranking and context selection."""
