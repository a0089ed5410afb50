; Definitions: @def.<kind> is the whole definition, @name its name.
(function_declaration name: (identifier) @name) @def.function
(method_declaration name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name type: (struct_type)) @def.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @def.interface
(type_spec name: (type_identifier) @name type: [(type_identifier) (qualified_type) (function_type) (map_type) (slice_type) (pointer_type) (array_type) (channel_type) (generic_type)]) @def.type
(method_elem name: (field_identifier) @name) @def.method
