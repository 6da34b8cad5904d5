// An in-app link: a real `<a href>` (so middle-click and copy-link work) whose plain left
// click navigates with pushState instead of reloading the page.

import type { ComponentChildren, JSX } from "preact";
import { navigate } from "../../state/url";

/** Props of Link. */
export interface LinkProps extends Omit<JSX.HTMLAttributes<HTMLAnchorElement>, "href"> {
  /** In-app href, `/path?query`. */
  href: string;
  /** Content. */
  children?: ComponentChildren;
}

/** An in-app link. */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
