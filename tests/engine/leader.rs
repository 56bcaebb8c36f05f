//! One process at a time works the outbox: the lead is a lock the database
//! server (PostgreSQL) or the kernel (SQLite's lock file) lets go of when its
//! holder goes, so another takes over at its next try.

use mend::store::leader::try_lead;

use crate::support::Fixture;

#[tokio::test]
async fn one_process_leads_the_outbox_and_another_takes_over_when_it_goes() {
    let fixture = Fixture::new();
    // The database must exist (on SQLite, the lock file sits beside it).
    let _engine = fixture.engine(Default::default()).await;
    let url = fixture.url();
    let mut first = try_lead(&url).await.unwrap().expect("the first to ask leads");
    assert!(first.held().await);
    assert!(try_lead(&url).await.unwrap().is_none(), "a second process does not lead while the first does");
    assert!(try_lead(&url).await.unwrap().is_none(), "nor at its next try");
    drop(first);
    // PostgreSQL lets go of a session's locks when its connection ends; the
    // kernel, of a file's lock when it is closed.
    let mut took_over = None;
    for _ in 0..50 {
        if let Some(lead) = try_lead(&url).await.unwrap() {
            took_over = Some(lead);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut second = took_over.expect("another takes over within 5 s of the first going");
    assert!(second.held().await);
}
