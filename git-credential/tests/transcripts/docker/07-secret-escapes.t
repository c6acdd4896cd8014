# secret escapes.
$ store
{"ServerURL":"e.example","Username":"\u00e9l\u00e8ve","Secret":"q\"b\\s\/n\nt\tu\u00e9\ud83d\ude00 <&> \u2028 ok"}{NOEOL}
? 0
$ get
e.example{NOEOL}
? 0
{"ServerURL":"e.example","Username":"élève","Secret":"q\"b\\s/n\nt\tué😀 \u003c\u0026\u003e \u2028 ok"}
$ store
{"ServerURL":"f.example","Username":"u","Secret":"ünïcödé raw ✓"}{NOEOL}
? 0
$ get
f.example{NOEOL}
? 0
{"ServerURL":"f.example","Username":"u","Secret":"ünïcödé raw ✓"}
