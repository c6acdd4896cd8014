# Unknown verbs (the protocol may grow), missing arguments, configured
# arguments this helper does not take, bad hostnames: one line on stderr,
# exit 1, nothing on stdout.
$ list app.terraform.io
? 1
! unknown verb "list"
$ get
? 1
! usage: terraform-credentials-keyward get|store|forget HOSTNAME
$
? 1
! usage:
$ --host=credstore.example.com get app.terraform.io
? 1
! unknown argument "--host=credstore.example.com" before the verb
$ get app.terraform.io/path
? 1
! bad hostname "app.terraform.io/path"
$ store
{"token":"s3cret"}
? 1
! usage:
