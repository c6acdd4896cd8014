@vault none
# No vault yet: get and logout find nothing; login says how to make one.
$ --cargo-plugin
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"get","operation":"read"}
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"logout"}
{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"login","token":"hunter2"}
? 0
{"v":[1]}
{"Err":{"kind":"not-found"}}
{"Err":{"kind":"not-found"}}
{"Err":{"kind":"other","message":"there is no keyward vault yet: run `keyward init` first"}}
