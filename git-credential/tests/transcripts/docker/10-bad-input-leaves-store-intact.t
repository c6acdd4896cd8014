# bad input leaves store intact.
$ store
{"ServerURL":"i.example","Username":"ivy","Secret":"keep"}{NOEOL}
? 0
$ store
{"ServerURL":"i.example","Username":"ivy","Secret":"hunter2"{NOEOL}
? 1
docker-credential-keyward: invalid JSON on stdin: expected ',' or '}' at byte 60
$ store
{"ServerURL":"i.example","Username":"ivy","Secret":"hunt{NUL}er2"}{NOEOL}
? 1
docker-credential-keyward: invalid input: NUL byte on stdin
$ store
{"ServerURL":"i.example","Username":"ivy","Secret":"hunt{xff}er2"}{NOEOL}
? 1
docker-credential-keyward: invalid input: stdin is not valid UTF-8
$ store
? 1
docker-credential-keyward: invalid JSON on stdin: empty input, expected a JSON object at byte 0
$ store
["i.example","ivy","hunter2"]{NOEOL}
? 1
docker-credential-keyward: invalid JSON on stdin: expected a JSON object at byte 0
$ store
{"ServerURL":"i.example","Username":"ivy","Secret":hunter2}{NOEOL}
? 1
docker-credential-keyward: invalid JSON on stdin: Secret must be a string at byte 51
$ store
{"ServerURL":"i.example","Username":"ivy","Secret":"\ud800hunter2"}{NOEOL}
? 1
docker-credential-keyward: invalid JSON on stdin: lone surrogate in \u escape at byte 54
$ store
{"ServerURL":"i.example","Username":"ivy","Secret":"x"} trailing{NOEOL}
? 1
docker-credential-keyward: invalid JSON on stdin: unexpected data after the JSON object at byte 56
$ get
i.exa{NUL}mple{NOEOL}
? 1
docker-credential-keyward: invalid input: NUL byte on stdin
$ erase
i.example{xc3}{NOEOL}
? 1
docker-credential-keyward: invalid input: stdin is not valid UTF-8
$ get
i.example{NOEOL}
? 0
{"ServerURL":"i.example","Username":"ivy","Secret":"keep"}
$ list
? 0
{"i.example":"ivy"}
