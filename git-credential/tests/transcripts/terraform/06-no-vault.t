@vault none
$ get app.terraform.io
? 0
{}
$ forget app.terraform.io
? 0
$ store app.terraform.io
{"token":"s3cret"}
? 1
! there is no keyward vault yet: run `keyward init` first
