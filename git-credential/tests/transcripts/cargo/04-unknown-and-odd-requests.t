# Well-formed requests this provider does not do are answered, and the
# session goes on.
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"rotate-token"}
{"v":1,"registry":{"index-url":""},"kind":"get","operation":"read"}
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":"  "}
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"get","operation":"some-future-operation"}
{"v":1,"registry":{"index-url":"sparse+http://r/index/","name":null,"extra":{"nested":[1,2]}},"kind":"login","token":"t0k","login-url":null,"args":["--flag"],"extra":true}
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"get","operation":"some-future-operation"}
? 0
{"v":[1]}
{"Err":{"kind":"operation-not-supported","message":"cargo-credential-keyward does not support `rotate-token` requests"}}
{"Err":{"kind":"other","message":"invalid request: empty `registry.index-url`"}}
{"Err":{"kind":"other","message":"the token is empty: nothing stored"}}
{"Err":{"kind":"not-found"}}
{"Ok":{"kind":"login"}}
{"Ok":{"kind":"get","token":"t0k","cache":"session","operation_independent":true}}
# Login without a token and without a terminal to ask on.
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/","name":"local"},"kind":"login"}
? 0
{"v":[1]}
{"Err":{"kind":"other","message":"no token given and no terminal to ask on: pipe it to `cargo login --registry local` or pass --token"}}
# Not run by cargo.
$
? 2
! usage: cargo-credential-keyward --cargo-plugin
$ --version
? 0
cargo-credential-keyward (keyward) 0.1.0
# No input at all: just the hello.
$ --cargo-plugin
? 0
{"v":[1]}
