// Package storetest is the conformance suite every store.Store backend must
// pass. A backend's test calls Run with a function that opens a fresh,
// empty store on a clock the suite controls.
package storetest
