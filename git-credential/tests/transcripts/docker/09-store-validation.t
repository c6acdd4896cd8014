# store validation.
$ store
{"Username":"u","Secret":"s"}{NOEOL}
? 1
no credentials server URL
$ store
{"ServerURL":"","Username":"u","Secret":"s"}{NOEOL}
? 1
no credentials server URL
$ store
{"ServerURL":"h.example","Secret":"s"}{NOEOL}
? 1
no credentials username
$ store
{"ServerURL":"h.example","Username":"","Secret":"s"}{NOEOL}
? 1
no credentials username
$ store
{}{NOEOL}
? 1
no credentials server URL
$ list
? 0
{}
$ @vault-unchanged
