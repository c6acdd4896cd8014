# A line that is not a request gets an `other` error and ends the session
# (exit 0: cargo shows the message only when the provider exits 0); nothing
# is stored, and a later request on the same connection is not answered.
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":"hunter2"
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":"x"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: expected ',' or '}' at byte 89"}}
$ --cargo-plugin
not json
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: unexpected character at byte 0"}}
$ --cargo-plugin

? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: unexpected end of input at byte 0"}}
$ --cargo-plugin
{"registry":{"index-url":"sparse+http://r/index/"},"kind":"get","operation":"read"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: missing field `v`"}}
$ --cargo-plugin
{"v":2,"registry":{"index-url":"sparse+http://r/index/"},"kind":"get","operation":"read"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"unsupported protocol version: this provider speaks version 1"}}
$ --cargo-plugin
{"v":1,"kind":"get","operation":"read"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: missing field `registry`"}}
$ --cargo-plugin
{"v":1,"registry":{"name":"local"},"kind":"get","operation":"read"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: missing field `registry.index-url`"}}
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"operation":"read"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: missing field `kind`"}}
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"get"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: missing field `operation`"}}
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":["hunter2"]}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: `token` must be a string"}}
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":"hunter2","token":"hunter3"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: duplicate field `token`"}}
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":"hun{NUL}ter2"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: NUL byte"}}
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":"hun{xff}ter2"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: not valid UTF-8"}}
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":"{REPEAT 1048577 x}"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"invalid request: longer than 1048576 bytes"}}
$ @count-cargo 0
