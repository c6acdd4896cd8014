# `capability` announces protocol version 0 and the authtype capability,
# without reading standard input.
$ capability
? 0
version 0
capability authtype
