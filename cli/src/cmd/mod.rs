//! One module per subcommand; each has its arguments and a `run`.

pub(crate) mod askpass;
pub(crate) mod aws;
pub(crate) mod doctor;
pub(crate) mod exec;
pub(crate) mod generate;
pub(crate) mod get;
pub(crate) mod import;
pub(crate) mod import_aws;
pub(crate) mod import_cargo;
pub(crate) mod import_helpers;
pub(crate) mod import_python;
pub(crate) mod import_tools;
pub(crate) mod init;
pub(crate) mod kube;
pub(crate) mod list;
pub(crate) mod lock;
pub(crate) mod log;
pub(crate) mod npm;
pub(crate) mod pam;
pub(crate) mod passwd;
pub(crate) mod recover;
pub(crate) mod rm;
pub(crate) mod set;
pub(crate) mod setup;
pub(crate) mod status;
pub(crate) mod unlock;
