//! The Shopware connector against the Shopware simulator (6.4 and 6.6, and 6.7 where it
//! matters), loaded as the host loads it.

mod support;

mod smoke {
    use crate::support::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn check_answers() {
        let shop = Shop::demo(ApiVersion::V6_6).await;
        let mut session = shop.session().await;
        let line = session.check().await.unwrap();
        assert!(line.contains("6.6.10.16"), "{line}");
        let (orders, _) = read_all(&mut session, query(None, &["paid"], 50))
            .await
            .unwrap();
        println!("{:?}", numbers(&orders));
    }
}
