# authtype and credential under capability[]=authtype: stored, and returned
# (after the echoed capability line) only to a caller that announces it.
$ store
capability[]=authtype
protocol=https
host=api.example
authtype=Bearer
credential=bearer-token
? 0
$ get
capability[]=authtype
protocol=https
host=api.example
? 0
capability[]=authtype
authtype=Bearer
credential=bearer-token
# Without the capability the entry has nothing to offer.
$ get
protocol=https
host=api.example
? 0
# Without the capability, authtype and credential are not understood, so a
# store with nothing else is incomplete.
$ store
protocol=https
host=other.example
authtype=Bearer
credential=t
? 1
! nothing stored
# An entry with a username and password too serves both kinds of caller.
$ store
capability[]=authtype
protocol=https
host=both.example
username=bob
password=basic-pw
authtype=Bearer
credential=tok2
? 0
$ get
protocol=https
host=both.example
? 0
username=bob
password=basic-pw
$ get
capability[]=authtype
protocol=https
host=both.example
? 0
capability[]=authtype
authtype=Bearer
credential=tok2
username=bob
password=basic-pw
# A plain credential echoes the capability line first, too.
$ store
protocol=https
host=plain.example
username=u
password=p
? 0
$ get
capability[]=authtype
capability[]=state
protocol=https
host=plain.example
? 0
capability[]=authtype
username=u
password=p
# git's case (t/lib-credential.sh, "helper_test_authtype"): a credential
# stored with a username keeps it, and a get naming that user finds it, as
# git's credential-cache does; another user's get does not.
$ store
capability[]=authtype
protocol=https
host=git.example.com
username=foobar
authtype=Bearer
credential=random-token
? 0
$ get
capability[]=authtype
protocol=https
host=git.example.com
username=foobar
? 0
capability[]=authtype
authtype=Bearer
credential=random-token
username=foobar
$ get
capability[]=authtype
protocol=https
host=git.example.com
username=someone-else
? 0
