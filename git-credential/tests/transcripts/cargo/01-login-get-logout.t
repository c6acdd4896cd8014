# One session as cargo holds it: get before login, login, get for each
# operation, logout, logout again. Tokens are keyed by the index URL.
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/","name":"local","headers":["WWW-Authenticate: Cargo login_url=\"http://127.0.0.1:8080/me\""]},"kind":"get","operation":"read"}
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/","name":"local"},"kind":"login","token":"s3cret-token","login-url":"http://127.0.0.1:8080/me"}
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/","name":"local"},"kind":"get","operation":"read"}
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/","name":"local"},"kind":"get","operation":"publish","name":"kwdemo","vers":"0.1.0","cksum":"00ff"}
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/"},"kind":"get","operation":"yank","name":"kwdemo","vers":"0.1.0"}
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/"},"kind":"get","operation":"owners","name":"kwdemo"}
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8081/index/"},"kind":"get","operation":"read"}
? 0
{"v":[1]}
{"Err":{"kind":"not-found"}}
{"Ok":{"kind":"login"}}
{"Ok":{"kind":"get","token":"s3cret-token","cache":"session","operation_independent":true}}
{"Ok":{"kind":"get","token":"s3cret-token","cache":"session","operation_independent":true}}
{"Ok":{"kind":"get","token":"s3cret-token","cache":"session","operation_independent":true}}
{"Ok":{"kind":"get","token":"s3cret-token","cache":"session","operation_independent":true}}
{"Err":{"kind":"not-found"}}
$ @count-cargo 1
# A new session (a new cargo run) sees the stored token; login replaces it.
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/","name":"local"},"kind":"login","token":"rotated\"<&>\u00e9"}
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/","name":"local"},"kind":"get","operation":"read"}
? 0
{"v":[1]}
{"Ok":{"kind":"login"}}
{"Ok":{"kind":"get","token":"rotated\"\u003c\u0026\u003eé","cache":"session","operation_independent":true}}
$ @count-cargo 1
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/","name":"local"},"kind":"logout"}
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/","name":"local"},"kind":"logout"}
{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8080/index/","name":"local"},"kind":"get","operation":"read"}
? 0
{"v":[1]}
{"Ok":{"kind":"logout"}}
{"Err":{"kind":"not-found"}}
{"Err":{"kind":"not-found"}}
$ @count-cargo 0
