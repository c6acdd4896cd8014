# field limits.
$ store
{"ServerURL":"{REPEAT 4097 r}","Username":"u","Secret":"s"}{NOEOL}
? 1
docker-credential-keyward: invalid input: ServerURL is longer than 4096 bytes
$ store
{"ServerURL":"r","Username":"{REPEAT 4097 r}","Secret":"s"}{NOEOL}
? 1
docker-credential-keyward: invalid input: Username is longer than 4096 bytes
$ list
? 0
{}
$ store
{"ServerURL":"{REPEAT 4096 r}","Username":"u","Secret":"s"}{NOEOL}
? 0
$ list
? 0
{"{REPEAT 4096 r}":"u"}
$ get
{REPEAT 4097 r}{NOEOL}
? 1
credentials not found in native keychain
