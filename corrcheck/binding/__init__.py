"""Reading the user's functions: roles, convention, layout, and one BoundOp with the canonical signature."""
