# empty store.
$ list
? 0
{}
$ get
https://index.docker.io/v1/{NOEOL}
? 1
credentials not found in native keychain
$ erase
https://index.docker.io/v1/{NOEOL}
? 0
$ erase
127.0.0.1:5000{NOEOL}
? 0
$ erase
http://127.0.0.1:5000{NOEOL}
? 0
$ erase
https://127.0.0.1:5000{NOEOL}
? 0
$ list
unused{NOEOL}
? 0
{}
$ @vault-unchanged
