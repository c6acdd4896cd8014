# Objects with properties the helper cannot keep are refused whole; stdin is
# read to its end first; the token stored before stays.
$ store tfe.example.com
{"token":"s3cret"}
? 0
$ store tfe.example.com
{"token":"s3cret-new","organization":"acme"}
? 1
! terraform-credentials-keyward: cannot store these credentials: property "organization": this helper keeps only "token"
$ store tfe.example.com
{"token":"s3cret-new","token":"again"}
? 1
! "token" is given twice
$ store tfe.example.com
{"token":42}
? 1
! "token" is not a string
$ store tfe.example.com
{"token":""}
? 1
! "token" is empty
$ store tfe.example.com
{}
? 1
! no "token" property
$ store tfe.example.com
["s3cret-new"]
? 1
! stdin is JSON but not an object
$ store tfe.example.com
{"token":"s3cret-new"
? 1
! stdin is not a JSON object
$ store tfe.example.com
{"token":"a{NUL}b"}
? 1
! not UTF-8 text without NUL bytes
$ store tfe.example.com
{"token":"a\nb"}
? 1
! "token" holds a control character
$ store tfe.example.com
{"token":"{REPEAT 70000 x}"}
? 1
! more than 65536 bytes on stdin; nothing stored
$ get tfe.example.com
? 0
{"token":"s3cret"}
