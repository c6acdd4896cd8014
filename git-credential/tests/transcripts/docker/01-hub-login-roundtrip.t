# hub login roundtrip.
$ store
{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"s3cret"}
? 0
$ get
https://index.docker.io/v1/
? 0
{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"s3cret"}
$ get
docker.io{NOEOL}
? 0
{"ServerURL":"docker.io","Username":"alice","Secret":"s3cret"}
$ get
index.docker.io
? 0
{"ServerURL":"index.docker.io","Username":"alice","Secret":"s3cret"}
$ get
registry-1.docker.io
? 0
{"ServerURL":"registry-1.docker.io","Username":"alice","Secret":"s3cret"}
$ list
? 0
{"https://index.docker.io/v1/":"alice"}
$ erase
docker.io
? 0
$ get
https://index.docker.io/v1/
? 1
credentials not found in native keychain
$ list
? 0
{}
$ erase
https://index.docker.io/v1/
? 0
