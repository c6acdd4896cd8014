@vault locked
# A locked vault fails at once with the hint (no terminal here).
$ get app.terraform.io
? 1
! vault is locked
$ store app.terraform.io
{"token":"s3cret"}
? 1
! vault is locked
$ forget app.terraform.io
? 1
! vault is locked
$ @unlock
$ get app.terraform.io
? 0
{}
