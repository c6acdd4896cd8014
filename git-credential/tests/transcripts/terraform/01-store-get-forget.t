# terraform-credentials-keyward as Terraform runs it: verb, then hostname.
$ get app.terraform.io
? 0
{}
$ store app.terraform.io
{"token":"hunter2.atlasv1.s3cret"}
? 0
$ @secret terraform/app.terraform.io hunter2.atlasv1.s3cret
$ get app.terraform.io
? 0
{"token":"hunter2.atlasv1.s3cret"}
# Hostnames compare case-insensitively.
$ get APP.Terraform.IO
? 0
{"token":"hunter2.atlasv1.s3cret"}
$ get tfe.example.com
? 0
{}
# A new token replaces the old one.
$ store app.terraform.io
{
  "token": "s3cret-2"
}
? 0
$ get app.terraform.io
? 0
{"token":"s3cret-2"}
$ forget app.terraform.io
? 0
$ get app.terraform.io
? 0
{}
# Forgetting what is not there succeeds.
$ forget app.terraform.io
? 0
