# Without exactly one action argument: a usage line and exit 2.
$
? 2
! usage: git-credential-keyward
$ get extra
protocol=https
? 2
! usage: git-credential-keyward
