# crates.io is one registry whether cargo names its git or its sparse index.
$ --cargo-plugin
{"v":1,"registry":{"index-url":"https://github.com/rust-lang/crates.io-index","name":"crates-io"},"kind":"login","token":"cio-token"}
{"v":1,"registry":{"index-url":"sparse+https://index.crates.io/","name":"crates-io"},"kind":"get","operation":"publish","name":"x","vers":"1.0.0","cksum":"00"}
{"v":1,"registry":{"index-url":"sparse+https://index.crates.io/","name":"crates-io"},"kind":"logout"}
{"v":1,"registry":{"index-url":"https://github.com/rust-lang/crates.io-index","name":"crates-io"},"kind":"get","operation":"read"}
? 0
{"v":[1]}
{"Ok":{"kind":"login"}}
{"Ok":{"kind":"get","token":"cio-token","cache":"session","operation_independent":true}}
{"Ok":{"kind":"logout"}}
{"Err":{"kind":"not-found"}}
