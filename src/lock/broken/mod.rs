//! Broken on purpose: the bugs the documents' own code carries, each one a
//! strategy of the lab so that it can fail in front of a class, in numbers.
//! Every file opens with what is wrong with it and the scenario that shows
//! it; never copy one of these.

pub mod get_del;
pub mod ignore_setnx;
pub mod lua_nil;
pub mod plain_del;
