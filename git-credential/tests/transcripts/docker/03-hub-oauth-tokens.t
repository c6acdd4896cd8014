# hub oauth tokens.
$ store
{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"login"}{NOEOL}
? 0
$ store
{"ServerURL":"https://index.docker.io/v1/access-token","Username":"alice","Secret":"eyJ.access"}{NOEOL}
? 0
$ store
{"ServerURL":"https://index.docker.io/v1/refresh-token","Username":"alice","Secret":"refresh..."}{NOEOL}
? 0
$ get
https://index.docker.io/v1/access-token{NOEOL}
? 0
{"ServerURL":"https://index.docker.io/v1/access-token","Username":"alice","Secret":"eyJ.access"}
$ get
https://index.docker.io/v1/refresh-token{NOEOL}
? 0
{"ServerURL":"https://index.docker.io/v1/refresh-token","Username":"alice","Secret":"refresh..."}
$ get
docker.io{NOEOL}
? 0
{"ServerURL":"docker.io","Username":"alice","Secret":"login"}
$ list
? 0
{"https://index.docker.io/v1/":"alice","https://index.docker.io/v1/access-token":"alice","https://index.docker.io/v1/refresh-token":"alice"}
$ erase
https://index.docker.io/v1/access-token{NOEOL}
? 0
$ get
https://index.docker.io/v1/access-token{NOEOL}
? 1
credentials not found in native keychain
$ get
https://index.docker.io/v1/{NOEOL}
? 0
{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"login"}
