"""What a service implements and declares: the gateway base and its data classes, attribute types, declarations and receiver bases."""
