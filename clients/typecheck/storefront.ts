// A storefront written against the generated client's types. `tsc` must accept it, and must
// refuse each line marked @ts-expect-error: the types say what the API takes and answers.
import {
  ShoppableClient,
  type ApiError,
  type CheckoutRequest,
  type OrderStatus,
  type Result,
  type StorefrontPost,
} from "../../chalicelib/storefront_widget/client.js";

const shop = new ShoppableClient("https://api.example.com/", { headers: { "X-Shop": "demo" } });

export async function buy(postId: string): Promise<OrderStatus | ApiError | null> {
  const shown: Result<StorefrontPost> = await shop.getStorefrontPost(postId);
  if (!shown.ok) return shown.error;
  const tag = shown.data.tags[0];
  const price: number = tag.price.amount;
  const currency: string = tag.price.currency;
  const inStock: boolean = tag.availability === "in_stock";
  const option: string | undefined = tag.variants[0]?.options["size"];
  void [price, currency, inStock, option];

  const cart: CheckoutRequest = {
    post_id: postId,
    lines: [{ variant_id: tag.variants[0].id, quantity: 1 }],
    customer: { email: "jane@example.com", name: "Jane Doe" },
    shipping_address: { line1: "12 rue de la Paix", city: "Paris", postal_code: "75002", country: "FR" },
  };
  const placed = await shop.createCheckout(cart, { idempotencyKey: "cart-1" });
  if (!placed.ok) return placed.error;
  const secret: string = placed.data.client_secret;
  const total: number = placed.data.amounts.total;
  void total;

  const polled = await shop.getCheckoutStatus(placed.data.order_id, { client_secret: secret });
  return polled.ok ? polled.data.status : polled.error;
}

export async function mistakes(): Promise<void> {
  // @ts-expect-error a post id is a string
  await shop.getStorefrontPost(42);
  // @ts-expect-error a checkout needs its lines, customer and shipping address
  await shop.createCheckout({ post_id: "post_1" });
  // @ts-expect-error quantity is a number
  await shop.createCheckout({ lines: [{ variant_id: "var_1", quantity: "1" }], customer: { email: "a@b.c", name: "A" }, shipping_address: { line1: "1", city: "P", postal_code: "1", country: "FR" } });
  const shown = await shop.getStorefrontPost("post_1");
  // @ts-expect-error data is unknown until `ok` says it is the post
  void shown.data.tags;
  if (shown.ok) {
    // @ts-expect-error availability is one of two words
    const nope: "sold_out" = shown.data.tags[0].availability;
    void nope;
  }
  // @ts-expect-error the status route takes only client_secret
  await shop.getCheckoutStatus("ord_1", { secret: "x" });
}
