; References: identifiers used (called, read, imported, or named as a type).
[(identifier) (property_identifier) (shorthand_property_identifier)] @ref
