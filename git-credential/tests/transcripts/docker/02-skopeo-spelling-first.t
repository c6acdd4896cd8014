# skopeo spelling first.
$ store
{"ServerURL":"docker.io","Username":"bob","Secret":"pw1"}{NOEOL}
? 0
$ get
https://index.docker.io/v1/{NOEOL}
? 0
{"ServerURL":"https://index.docker.io/v1/","Username":"bob","Secret":"pw1"}
$ store
{"ServerURL":"https://index.docker.io/v1/","Username":"carol","Secret":"pw2"}{NOEOL}
? 0
$ list
? 0
{"https://index.docker.io/v1/":"carol"}
$ get
docker.io{NOEOL}
? 0
{"ServerURL":"docker.io","Username":"carol","Secret":"pw2"}
