# The answer is JSON escaped as Go's encoder escapes it.
$ store h.example
{"token":"a\"b\\c<&>\u00e9/"}
? 0
$ get h.example
? 0
{"token":"a\"b\\c\u003c\u0026\u003e{xC3}{xA9}/"}
