# A blank line ends the request; what follows is ignored. CRLF line ends are
# read as git reads them.
$ store
protocol=https
host=example.com
username=bob
password=s3cret

username=mallory
password=ignored
? 0
$ get
protocol=https{CR}
host=example.com{CR}
{CR}
host=ignored.example
? 0
username=bob
password=s3cret
# End of input without a newline ends the last attribute.
$ get
protocol=https
host=example.com{NOEOL}
? 0
username=bob
password=s3cret
# An empty request matches anything.
$ get
? 0
username=bob
password=s3cret
