# no cross host or port.
$ store
{"ServerURL":"127.0.0.1:5000","Username":"u","Secret":"p"}{NOEOL}
? 0
$ get
127.0.0.1:5001{NOEOL}
? 1
credentials not found in native keychain
$ get
127.0.0.1{NOEOL}
? 1
credentials not found in native keychain
$ get
localhost:5000{NOEOL}
? 1
credentials not found in native keychain
$ get
https://127.0.0.1:5000{NOEOL}
? 1
credentials not found in native keychain
$ get
docker.io{NOEOL}
? 1
credentials not found in native keychain
$ erase
http://127.0.0.1:5000{NOEOL}
? 0
$ get
127.0.0.1:5000{NOEOL}
? 0
{"ServerURL":"127.0.0.1:5000","Username":"u","Secret":"p"}
$ store
{"ServerURL":"docker.io.evil.example","Username":"e","Secret":"x"}{NOEOL}
? 0
$ get
docker.io{NOEOL}
? 1
credentials not found in native keychain
